"""Page paths, file names, titles, slugs and front matter (no Flask).

A page path is ``segment(/segment)*`` with ``segment = [a-z0-9][a-z0-9-]{0,62}``, at most eight
deep and 255 characters long; the page is stored as ``<path>.md``. Documents of a page live in
``<path>/_files/<name>``. Everything that does not match is refused before it reaches git.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml

from wiki.messages import N_, message_of

SEGMENT_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
FILENAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
FILENAME_MAX = 128
MAX_DEPTH = 8
MAX_PATH = 255
PAGE_SUFFIX = ".md"
FILES_DIR = "_files"
HOME = "start"
VISIBILITIES = ("public", "internal", "members", "board")
CORE_FIELDS = ("title", "type", "visibility", "tags")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
HEADING_RE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.M)
#: PyYAML's safe loader, in C where libyaml is available (8× faster; same results).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Integers in YAML have at most this many digits (Python refuses to print more than 4,300).
MAX_YAML_INT_DIGITS = 100
_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ẞ": "ss"}
)


class BadName(ValueError):
    """A page path or file name that does not follow the grammar; ``str()`` is a user message."""


class FrontMatterError(ValueError):
    """Front matter that is not a YAML mapping; ``str()`` is a user message."""


class YamlProblem(ValueError):
    """YAML that :func:`load_yaml` refuses: ``line`` (0-based, or None) and ``kind``: ``syntax``,
    ``alias`` (anchors and aliases are not allowed), ``number`` (too many digits) or ``value``
    (a value that cannot be converted, e.g. the date 2022-13-45)."""

    def __init__(self, kind: str, line: int | None = None):
        super().__init__(kind)
        self.kind = kind
        self.line = line


def check_path(path: str) -> str:
    """Return ``path`` if it is a valid page path, else raise :class:`BadName`."""
    if not isinstance(path, str) or not path:
        raise BadName(N_("Der Seitenname ist leer."))
    if len(path) > MAX_PATH:
        raise BadName(N_("Der Seitenname ist länger als %(n)s Zeichen.", n=MAX_PATH))
    segments = path.split("/")
    if len(segments) > MAX_DEPTH:
        raise BadName(N_("Seiten dürfen höchstens %(n)s Ebenen tief liegen.", n=MAX_DEPTH))
    for segment in segments:
        if not SEGMENT_RE.fullmatch(segment):
            raise BadName(
                N_(
                    "Ungültiger Seitenname: erlaubt sind Kleinbuchstaben a–z, Ziffern und "
                    "Bindestriche, getrennt durch „/“; jeder Teil beginnt mit einem Buchstaben "
                    "oder einer Ziffer."
                )
            )
    return path


def is_valid_path(path: str) -> bool:
    """True if ``path`` follows the page path grammar."""
    try:
        check_path(path)
    except BadName:
        return False
    return True


def check_filename(name: str) -> str:
    """Return ``name`` if it is a valid document file name, else raise :class:`BadName`."""
    if (
        not isinstance(name, str)
        or not FILENAME_RE.fullmatch(name)
        or ".." in name
        or name.endswith(".")
    ):
        raise BadName(
            N_(
                "Ungültiger Dateiname: erlaubt sind Buchstaben A–Z, a–z, Ziffern, Punkt, "
                "Unterstrich und Bindestrich (höchstens 128 Zeichen, kein „..“)."
            )
        )
    return name


def page_file(path: str) -> str:
    """The repository file that stores page ``path``."""
    return path + PAGE_SUFFIX


def file_dir(path: str) -> str:
    """The repository folder that holds the documents of page ``path``."""
    return f"{path}/{FILES_DIR}/"


def document_file(path: str, name: str) -> str:
    """The repository file of document ``name`` of page ``path``."""
    return f"{path}/{FILES_DIR}/{name}"


def path_of_file(filename: str) -> str | None:
    """The page path stored in repository file ``filename``, or None if it is not a page."""
    if not filename.endswith(PAGE_SUFFIX):
        return None
    path = filename[: -len(PAGE_SUFFIX)]
    return path if is_valid_path(path) else None


def document_of_file(filename: str) -> tuple[str, str] | None:
    """``(page path, file name)`` if ``filename`` is a page document, else None."""
    head, sep, name = filename.rpartition(f"/{FILES_DIR}/")
    if not sep or "/" in name or not is_valid_path(head):
        return None
    try:
        check_filename(name)
    except BadName:
        return None
    return head, name


def _fold(text: str) -> str:
    """Lower-case ASCII of ``text``: ä→ae, ö→oe, ü→ue, ß→ss, other accents dropped."""
    text = text.strip().translate(_TRANSLIT)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


def slugify(text: str) -> str:
    """A page path segment sequence from free text: lower case, ä→ae … ß→ss, others → ``-``."""
    text = re.sub(r"[^a-z0-9]+", "-", _fold(text)).strip("-")
    return text[:63].rstrip("-")


def normalize_filename(name: str) -> str:
    """A document name from a file's own name, as :func:`slugify` does for titles.

    Only the last part of a client-side path counts; umlauts become ae/oe/ue, ß ss, the name
    lower case, every other character outside ``[a-z0-9._-]`` a ``-`` (runs collapsed); the
    extension is kept. Raises :class:`BadName` if no valid name remains.
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem.strip(". "):
        stem, ext = name, ""
    ext = re.sub(r"[^a-z0-9]+", "", _fold(ext))[:16]
    stem = re.sub(r"[^a-z0-9._]+", "-", _fold(stem))
    stem = re.sub(r"[-.]*\.[-.]*", ".", re.sub(r"-{2,}", "-", stem)).strip("-._")
    stem = stem[: FILENAME_MAX - len(ext) - 1].rstrip("-._")
    if ext and not stem:
        stem = "dokument"  # "---.pdf" keeps its type
    return check_filename(f"{stem}.{ext}" if ext else stem)


def slugify_path(text: str) -> str:
    """Slugify each ``/``-separated part of ``text``; empty parts are dropped."""
    return "/".join(part for part in (slugify(p) for p in text.split("/")) if part)


def resolve_target(target: str, current: str | None = None) -> str:
    """Turn a wikilink target into a page path (absolute from the root, or ``./``, ``../``)."""
    target = target.strip()
    if current is not None and (target.startswith("./") or target.startswith("../")):
        parts = current.split("/")
        for piece in target.split("/"):
            if piece == "..":
                if parts:
                    parts.pop()
            elif piece == ".":
                continue
            else:
                parts.append(piece)
        # "./x" is a subpage of the current page, "../x" a sibling of it.
        target = "/".join(parts)
    return slugify_path(target)


def parent_paths(path: str) -> list[str]:
    """The ancestors of ``path``, outermost first (``a/b/c`` → ``a``, ``a/b``)."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def load_yaml(source: str, loader=SAFE_LOADER) -> Any:
    """Parse YAML with the safe loader (front matter, widget blocks); raise :class:`YamlProblem`.

    Anchors and aliases are refused: a few hundred bytes of aliases expand to megabytes. Any
    error of the parser or of a value's conversion (a date like 2022-13-45, an integer of more
    than 4,300 digits, nesting deeper than the parser allows) is a :class:`YamlProblem` too, so
    that user input never raises anything else.
    """
    try:
        if "&" in source or "*" in source:
            for event in yaml.parse(source, Loader=loader):
                if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                    raise YamlProblem("alias", event.start_mark.line)
        data = yaml.load(source, Loader=loader)
    except YamlProblem:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlProblem("syntax", mark.line if mark is not None else None) from None
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise YamlProblem("value") from None
    _check_numbers(data)
    return data


def _check_numbers(data: Any) -> None:
    """Refuse integers too long to print (hexadecimal ones escape Python's own digit limit)."""
    limit = 10**MAX_YAML_INT_DIGITS
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, int) and abs(value) >= limit:
            raise YamlProblem("number")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``text`` into (front matter mapping, markdown body); raise FrontMatterError."""
    match = FRONT_MATTER_RE.match(text)
    if not match:
        return {}, text
    try:
        meta = load_yaml(match.group(1))
    except YamlProblem as exc:
        if exc.kind == "alias":
            raise FrontMatterError(
                N_(
                    "Die Metadaten (YAML) dürfen keine Anker und Verweise („&“, „*“) enthalten "
                    "(Zeile %(line)s).",
                    line=exc.line + 2,
                )
            ) from None
        if exc.kind == "number":
            raise FrontMatterError(
                N_(
                    "Die Metadaten (YAML) enthalten eine Zahl mit mehr als %(n)s Ziffern.",
                    n=MAX_YAML_INT_DIGITS,
                )
            ) from None
        if exc.kind == "value":
            raise FrontMatterError(
                N_(
                    "Die Metadaten (YAML) enthalten einen Wert, der sich nicht lesen lässt "
                    "(etwa ein ungültiges Datum oder eine zu lange Zahl)."
                )
            ) from None
        if exc.line is not None:
            raise FrontMatterError(
                N_("Die Metadaten (YAML) sind fehlerhaft (Zeile %(line)s).", line=exc.line + 2)
            ) from None
        raise FrontMatterError(N_("Die Metadaten (YAML) sind fehlerhaft.")) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FrontMatterError(N_("Die Metadaten müssen aus Schlüssel-Wert-Paaren bestehen."))
    return meta, text[match.end() :]


def join_front_matter(meta: dict[str, Any], body: str) -> str:
    """Serialise front matter and body back into page text."""
    if not meta:
        return body
    dumped = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False)
    return f"---\n{dumped}---\n{body}"


def check_core_meta(meta: dict[str, Any]) -> list[str]:
    """Problems with the core front matter fields (title, type, visibility, tags)."""
    problems = []
    if "title" in meta and not isinstance(meta["title"], str | int | float):
        problems.append(N_("„title“ muss ein Text sein."))
    if "type" in meta and not (
        isinstance(meta["type"], str) and SEGMENT_RE.fullmatch(meta["type"])
    ):
        problems.append(N_("„type“ muss ein kurzer Name aus Kleinbuchstaben sein."))
    if "visibility" in meta and meta["visibility"] not in VISIBILITIES:
        problems.append(
            N_(
                "„visibility“ muss einer dieser Werte sein: %(values)s.",
                values=", ".join(VISIBILITIES),
            )
        )
    tags = meta.get("tags")
    if tags is not None and not (
        isinstance(tags, list) and all(isinstance(t, str | int) and str(t).strip() for t in tags)
    ):
        problems.append(N_("„tags“ muss eine Liste von Schlagworten sein."))
    return problems


def title_of(meta: dict[str, Any], body: str, path: str) -> str:
    """The title: front matter ``title``, else the first ``# heading``, else the last segment."""
    title = meta.get("title")
    if title is not None and str(title).strip():
        return str(title).strip()
    match = HEADING_RE.search(body)
    if match:
        return match.group(1).strip()
    return path.rsplit("/", 1)[-1].replace("-", " ").capitalize()


@dataclass
class Page:
    """A parsed page at one revision: path, front matter, body and derived fields."""

    path: str
    meta: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    blob: str | None = None
    problems: list[str] = field(default_factory=list)
    #: The front matter could not be read at all (its intended visibility is unknown).
    broken: bool = False

    @classmethod
    def parse(cls, path: str, data: bytes | str, blob: str | None = None) -> Page:
        """Parse page text; broken front matter becomes a problem, never an exception."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        try:
            meta, body = split_front_matter(text)
            problems = check_core_meta(meta)
        except FrontMatterError as exc:
            return cls(
                path=path, meta={}, body=text, blob=blob, problems=[message_of(exc)], broken=True
            )
        return cls(path=path, meta=meta, body=body, blob=blob, problems=problems)

    @property
    def title(self) -> str:
        return title_of(self.meta, self.body, self.path)

    @property
    def type(self) -> str:
        value = self.meta.get("type") or "page"
        return value if isinstance(value, str) and SEGMENT_RE.fullmatch(value) else "page"

    @property
    def visibility(self) -> str | None:
        value = self.meta.get("visibility")
        return value if value in VISIBILITIES else None

    def effective_visibility(self, default: str) -> str:
        """Declared visibility, else ``default``; unreadable or invalid front matter is treated
        as the most restrictive level, so a broken push never exposes a page."""
        if self.broken or ("visibility" in self.meta and self.visibility is None):
            return "board"
        return self.visibility or default

    @property
    def tags(self) -> list[str]:
        tags = self.meta.get("tags")
        if not isinstance(tags, list):
            return []
        return [str(t).strip() for t in tags if str(t).strip()]

    def text(self) -> str:
        """The full file text (front matter and body)."""
        return join_front_matter(self.meta, self.body)
