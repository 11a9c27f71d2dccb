"""Opt-out and opt-in keywords: an inbound message that is only `STOP` (or `UNSUBSCRIBE`, or the same
in Portuguese, Spanish, German, French, Italian…) blocklists its sender; `START` lifts it. Matching
ignores case, accents, surrounding spaces and punctuation, and only whole messages count (`stop by
tomorrow?` is no opt-out)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

OPT_OUT = frozenset({
    "stop", "unsubscribe", "stop all", "opt out", "optout", "end", "quit", "cancel",  # en
    "parar", "pare", "sair", "cancelar", "descadastrar", "remover",  # pt
    "baja", "darme de baja", "detener", "no mas",  # es
    "stopp", "abmelden", "abbestellen",  # de
    "arret", "arreter", "desabonner", "desinscrire",  # fr
    "basta", "disiscrivi", "cancellami",  # it
})
OPT_IN = frozenset({"start", "unstop", "subscribe", "iniciar", "voltar", "alta", "anmelden", "reprendre"})


def normalize(text: str) -> str:
    """Lower case, accents and punctuation removed, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.split())


class Keywords:
    def __init__(self, extra_out: Iterable[str] = (), extra_in: Iterable[str] = ()):
        self.out = OPT_OUT | {normalize(w) for w in extra_out if normalize(w)}
        self.into = (OPT_IN | {normalize(w) for w in extra_in if normalize(w)}) - self.out

    def classify(self, text: str | None) -> str | None:
        """"out", "in" or None for an inbound text."""
        if not text or len(text) > 40:
            return None
        word = normalize(text)
        return "out" if word in self.out else "in" if word in self.into else None
