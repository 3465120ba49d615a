"""The password policy: the one check made wherever a password is set (an agent's own
change, an administrator's "set password", account creation in the form and in
`flask create-admin`). It applies when a password is chosen, never to existing hashes.

Beyond the length, it refuses passwords that contain the holder's first name, last name
or address, and passwords that zxcvbn (Dropbox's estimator, MIT licence, pinned in
pyproject.toml) rates easy to guess: its lists of common passwords, names and words, and
its patterns (repeats, sequences, keyboard rows, dates).
"""

from __future__ import annotations

import re
import unicodedata

from flask import current_app
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn

from ..people.models import User

MAX_LENGTH = 200
# zxcvbn's own limit: its matching grows fast with the length (200 random characters
# take it half a minute). The first 72 characters are judged; nobody guesses past them.
ESTIMATED_LENGTH = 72
# zxcvbn's scores go from 0 to 4; 3 is "safely unguessable" (about 10^10 guesses), the
# level its authors advise for accounts that matter.
MIN_SCORE = 3
# A name or address part shorter than this is not looked for (« Li », « Bo »).
MIN_PERSONAL_PART = 3

TOO_COMMON = ("Ce mot de passe est trop courant ou trop facile à deviner : choisissez par "
              "exemple une phrase de plusieurs mots sans rapport avec vous.")
PERSONAL_OWN = ("Le mot de passe ne doit contenir ni votre prénom, ni votre nom, ni votre "
                "adresse électronique.")
PERSONAL_OTHER = ("Le mot de passe ne doit contenir ni le prénom, ni le nom, ni l'adresse "
                  "électronique de l'agent.")


def _fold(text: str) -> str:
    """Lower case, accents dropped, letters and digits only: « Léa-Petit » -> « leapetit »."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", bare.casefold())


def personal_words(first_name: str, last_name: str, email: str) -> set[str]:
    """The holder's names and the local part of the address, whole and in pieces
    (« Jean-Pierre », « jean.dupont »), folded as passwords are."""
    local_part = (email or "").split("@")[0]
    words = set()
    for value in (first_name, last_name, local_part):
        for piece in [value, *re.split(r"[\s._+'’-]+", value or "")]:
            folded = _fold(piece)
            if len(folded) >= MIN_PERSONAL_PART:
                words.add(folded)
    return words


def password_problem(password: str | None, *, first_name: str = "", last_name: str = "",
                     email: str = "", own: bool = False) -> str | None:
    """Why this password cannot be chosen for this holder, in French, or None."""
    password = password or ""
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        return f"Le mot de passe doit compter au moins {min_length} caractères."
    if len(password) > MAX_LENGTH:
        return f"Le mot de passe ne peut dépasser {MAX_LENGTH} caractères."
    personal = personal_words(first_name, last_name, email)
    folded = _fold(password)
    if any(word in folded for word in personal):
        return PERSONAL_OWN if own else PERSONAL_OTHER
    result = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=sorted(personal),
                    max_length=ESTIMATED_LENGTH)
    if result["score"] < MIN_SCORE:
        return TOO_COMMON
    return None


def password_errors(password: str | None, field: str = "password", **holder) -> dict[str, str]:
    """`password_problem` as the field errors of a ValidationFailed."""
    problem = password_problem(password, **holder)
    return {field: problem} if problem else {}


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_holder(user: User) -> dict[str, str]:
    """What a password must not contain: see accounts.passwords."""
    return {"first_name": user.first_name, "last_name": user.last_name, "email": user.login}
