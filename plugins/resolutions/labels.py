"""Display names of the resolution fields' values (German source strings, translated on use).

Every table maps the stored value (see :mod:`plugins.resolutions.schema`) to a lazy string, so
the tables can be imported at module level and render in the reader's language. Unknown values
should be shown as they are: ``OUTCOME_LABELS.get(value, value)``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: ``outcome`` → label ("Status" on the page, "Ergebnis" in the archive).
OUTCOME_LABELS = {
    "angenommen": _l("angenommen"),
    "angenommen_geaendert": _l("angenommen mit Änderungen"),
    "abgelehnt": _l("abgelehnt"),
    "ueberwiesen": _l("überwiesen"),
    "erledigt": _l("erledigt"),
    "nichtbefassung": _l("Nichtbefassung"),
    "vertagt": _l("vertagt"),
    "zurueckgezogen": _l("zurückgezogen"),
    "nicht_zugelassen": _l("nicht zugelassen"),
    "offen": _l("offen"),
}

#: ``validity`` → label ("Gültigkeit").
VALIDITY_LABELS = {
    "in_kraft": _l("in Kraft"),
    "vorlaeufig": _l("vorläufig in Kraft"),
    "umgesetzt": _l("umgesetzt"),
    "ersetzt": _l("ersetzt"),
    "aufgehoben": _l("aufgehoben"),
    "abgelaufen": _l("abgelaufen"),
    "historisch": _l("historisch"),
}

#: Link kind → label, read from the resolution whose front matter holds the link
#: ("A1 *ersetzt* A3").
LINK_LABELS = {
    "replaces": _l("ersetzt"),
    "amends": _l("ändert"),
    "implements": _l("setzt um"),
    "forwarded_from": _l("weitergeleitet von"),
    "forwarded_to": _l("weitergeleitet an"),
    "related": _l("siehe auch"),
}

#: Link kind (as stored, ``schema.LINK_TYPES`` keys) → label read from the link's target
#: ("A3 *ersetzt durch* A1"); the kinds' inverse names are ``schema.LINK_TYPES`` values.
INVERSE_LINK_LABELS = {
    "replaces": _l("ersetzt durch"),
    "amends": _l("geändert durch"),
    "implements": _l("umgesetzt durch"),
    "forwarded_from": LINK_LABELS["forwarded_to"],
    "forwarded_to": LINK_LABELS["forwarded_from"],
    "related": LINK_LABELS["related"],
}

#: Keys of ``votes`` → label ("Abstimmungsergebnis").
VOTE_LABELS = {
    "yes": _l("Ja"),
    "no": _l("Nein"),
    "abstain": _l("Enthaltungen"),
    "invalid": _l("Ungültig"),
}
