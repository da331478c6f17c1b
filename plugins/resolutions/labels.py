"""Display names of the resolution fields' values (German source strings, translated on use).

Every table maps the stored value (see :mod:`plugins.resolutions.schema`) to a lazy string, so
the tables can be imported at module level and render in the reader's language. Unknown values
should be shown as they are: ``OUTCOME_LABELS.get(value, value)``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext

#: ``outcome`` → label ("Status" on the page, "Ergebnis" in the archive).
OUTCOME_LABELS = {
    "angenommen": lazy_gettext("angenommen"),
    "angenommen_geaendert": lazy_gettext("angenommen mit Änderungen"),
    "abgelehnt": lazy_gettext("abgelehnt"),
    "ueberwiesen": lazy_gettext("überwiesen"),
    "erledigt": lazy_gettext("erledigt"),
    "nichtbefassung": lazy_gettext("Nichtbefassung"),
    "vertagt": lazy_gettext("vertagt"),
    "zurueckgezogen": lazy_gettext("zurückgezogen"),
    "nicht_zugelassen": lazy_gettext("nicht zugelassen"),
    "offen": lazy_gettext("offen"),
}

#: ``validity`` → label ("Gültigkeit").
VALIDITY_LABELS = {
    "in_kraft": lazy_gettext("in Kraft"),
    "vorlaeufig": lazy_gettext("vorläufig in Kraft"),
    "umgesetzt": lazy_gettext("umgesetzt"),
    "ersetzt": lazy_gettext("ersetzt"),
    "aufgehoben": lazy_gettext("aufgehoben"),
    "abgelaufen": lazy_gettext("abgelaufen"),
    "historisch": lazy_gettext("historisch"),
}

#: Link kind → label, read from the resolution whose front matter holds the link
#: ("A1 *ersetzt* A3").
LINK_LABELS = {
    "replaces": lazy_gettext("ersetzt"),
    "amends": lazy_gettext("ändert"),
    "implements": lazy_gettext("setzt um"),
    "forwarded_from": lazy_gettext("weitergeleitet von"),
    "forwarded_to": lazy_gettext("weitergeleitet an"),
    "related": lazy_gettext("siehe auch"),
}

#: Link kind (as stored, ``schema.LINK_TYPES`` keys) → label read from the link's target
#: ("A3 *ersetzt durch* A1"); the kinds' inverse names are ``schema.LINK_TYPES`` values.
INVERSE_LINK_LABELS = {
    "replaces": lazy_gettext("ersetzt durch"),
    "amends": lazy_gettext("geändert durch"),
    "implements": lazy_gettext("umgesetzt durch"),
    "forwarded_from": LINK_LABELS["forwarded_to"],
    "forwarded_to": LINK_LABELS["forwarded_from"],
    "related": LINK_LABELS["related"],
}

#: Keys of ``votes`` → label ("Abstimmungsergebnis").
VOTE_LABELS = {
    "yes": lazy_gettext("Ja"),
    "no": lazy_gettext("Nein"),
    "abstain": lazy_gettext("Enthaltungen"),
    "invalid": lazy_gettext("Ungültig"),
}
