from django import forms


class CandidateForm(forms.Form):
    email = forms.EmailField()
    name = forms.CharField(max_length=200, help_text="First and last name.")
    is_prospect = forms.BooleanField(required=False, label="Prospect")
