"""Calendar words, shared by the auto-reply wording and the return dates: month and weekday
names in the languages the classifier reads, with their numbers."""

from __future__ import annotations

import re

_MONTH_NAMES = (
    "january jan januar jänner janvier enero gennaio januari janeiro",
    "february feb februar février fevrier febrero febbraio februari fevereiro",
    "march mar märz maerz mars marzo maart março",
    "april apr avril abril aprile",
    "may mai mayo maggio mei maio",
    "june jun juni juin junio giugno junho",
    "july jul juli juillet julio luglio julho",
    "august aug août aout agosto augustus",
    "september sep sept septembre septiembre setiembre settembre setembro",
    "october oct oktober octobre octubre ottobre oktober outubro",
    "november nov novembre noviembre novembro",
    "december dec dezember décembre decembre diciembre dicembre dezembro",
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
_WEEKDAYS = (
    "monday montag lundi lunes lunedì maandag",
    "tuesday dienstag mardi martes martedì dinsdag",
    "wednesday mittwoch mercredi miércoles mercoledì woensdag",
    "thursday donnerstag jeudi jueves giovedì donderdag",
    "friday freitag vendredi viernes venerdì vrijdag",
    "saturday samstag samedi sábado sabato zaterdag",
    "sunday sonntag dimanche domingo domenica zondag",
)
_WEEKDAY_NUMBERS = {
    name: number for number, names in enumerate(_WEEKDAYS) for name in names.split()
}
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAY_NUMBERS) + r")\b", re.I)
