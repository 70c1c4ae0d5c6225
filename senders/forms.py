from django import forms


class ConnectForm(forms.Form):
    email = forms.EmailField(label="Gmail address to connect")


class RequestAccessForm(forms.Form):
    email = forms.EmailField(label="Teammate's email")


class InviteSenderForm(forms.Form):
    full_name = forms.CharField(max_length=200, label="Colleague's name")
    email = forms.EmailField(label="Colleague's email")
