"""Password rules: a minimum length and no password from the lists attackers try first.

The list is the head of the well-known breach lists (the ones credential-stuffing tools start
with), lower-cased, plus the names of this app; a password is refused when it, lower-cased and
without surrounding spaces, is on it, or is one of them with a year or a few digits added.
"""

from __future__ import annotations

import re

MIN_PASSWORD_LENGTH = 8

_COMMON = """
123456 123456789 12345678 1234567890 12345 1234567 password password1 password12 password123
password1234 passw0rd p@ssw0rd p@ssword pa$$word qwerty qwerty123 qwertyuiop qwerty12345
1q2w3e4r 1q2w3e4r5t 1qaz2wsx 1qazxsw2 zaq12wsx zaq1zaq1 qazwsx qazwsxedc 111111 000000 123123
123321 654321 666666 121212 112233 123654 987654321 11111111 00000000 88888888 12341234
abc123 abcd1234 abc12345 a1b2c3d4 iloveyou princess sunshine monkey dragon football baseball
basketball soccer hockey superman batman letmein letmein1 welcome welcome1 welcome123 login
admin admin123 administrator root toor master master123 shadow michael jennifer jordan hunter
hunter2 trustno1 freedom whatever starwars pokemon charlie donald computer internet access
secret secret123 changeme changeme123 default guest test test123 testing testtest temp123
summer winter spring autumn january february october november december monday friday
qwerty1 asdfghjk asdfghjkl asdf1234 zxcvbnm zxcvbnm123 mustang michelle jessica ashley
daniel andrew thomas matthew robert charles liverpool chelsea arsenal cookie chocolate
butterfly flower purple orange yellow silver golden diamond lovely loveme iloveu
killer ninja samsung apple google microsoft linkedin facebook twitter youtube
quickbooks quickbooks1 intuit warehouse qbsync conductor inventory accounting
correcthorsebatterystaple
"""

COMMON_PASSWORDS = frozenset(_COMMON.split())
_DECORATION = re.compile(r"[\d!@#$%^&*.?_-]{0,6}$")


def password_problem(password: str) -> str | None:
    """Why `password` is refused, in words for the person choosing it; None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    plain = password.strip().lower()
    stem = _DECORATION.sub("", plain)
    if plain in COMMON_PASSWORDS or stem in COMMON_PASSWORDS:
        return ("that password is among the most common ones attackers try first; choose "
                "another (a few unrelated words make a strong one)")
    return None
