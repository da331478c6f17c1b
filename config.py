"""Every Verbandswiki setting with its default.

Settings are read in this order, later ones winning: this file, the instance's ``config.py``
(``<WIKI_INSTANCE>/config.py``, written by ``verbandswiki init`` with a generated SECRET_KEY),
environment variables with exactly the key's name, and the mapping passed to ``create_app``.
Core keys start with ``WIKI_``; plugin keys start with the plugin's name (``SPACES_…``).
"""


class DefaultConfig:
    #: Instance folder: config.py, wiki.sqlite, content.git, search/, cache/, outbox/, write.lock.
    WIKI_INSTANCE = "instance"

    #: Flask's signing key for sessions and CSRF tokens. ``init`` writes a random one into the
    #: instance config; the app refuses to start without one outside of testing.
    SECRET_KEY = None

    #: Name shown in the header, the document title and e-mails.
    WIKI_SITE_NAME = "Verbandswiki"

    #: Public base URL (used in e-mails and feeds), e.g. ``https://wiki.example.org``. Empty: taken
    #: from the request.
    WIKI_BASE_URL = ""

    #: SQLAlchemy database URL. Empty: ``sqlite:///<instance>/wiki.sqlite``. PostgreSQL works too,
    #: e.g. ``postgresql+psycopg://wiki:secret@localhost/wiki`` (install the driver yourself).
    WIKI_DATABASE_URL = ""

    #: Bare git repository with the content. Empty: ``<instance>/content.git``.
    WIKI_REPOSITORY = ""

    #: Plugins to enable, in order (import names of packages with hook implementations).
    #: Built-in core plugins (wikilinks, core page type) are always on.
    WIKI_PLUGINS = []

    #: Visibility of pages that do not declare one and lie in no space: ``public`` or ``internal``.
    WIKI_DEFAULT_VISIBILITY = "public"

    #: Who may edit pages outside spaces: ``users`` (every logged-in user) or ``admins``.
    WIKI_EDIT = "users"

    #: Whether visitors may register accounts themselves (otherwise admins create them).
    WIKI_REGISTRATION = False

    #: Domain of the pseudonymous commit e-mail addresses ``<public id>@<domain>``.
    WIKI_NOREPLY_DOMAIN = "noreply.invalid"

    #: Largest document upload in megabytes; larger requests get 413 before being read.
    WIKI_MAX_UPLOAD_MB = 20

    #: Largest page text in kilobytes.
    WIKI_MAX_PAGE_KB = 512

    #: Time zone for dates in the interface.
    WIKI_TIMEZONE = "Europe/Berlin"

    #: Default interface language (``de`` or ``en``); users can choose their own.
    WIKI_DEFAULT_LOCALE = "de"

    #: Language of the page content (BCP 47). It is the ``lang`` of every document, also when
    #: the interface is shown in English: screen readers and hyphenation follow the content.
    WIKI_CONTENT_LANGUAGE = "de"

    #: Rendered pages kept in memory per worker process.
    WIKI_RENDER_CACHE_SIZE = 2000

    #: Password hashing method for werkzeug (tests use a cheap one).
    WIKI_PASSWORD_METHOD = "scrypt"

    #: Minimum password length.
    WIKI_PASSWORD_MIN_LENGTH = 10

    #: Failed logins allowed per account and per address within the window before 429.
    WIKI_LOGIN_MAX_FAILURES = 5
    WIKI_LOGIN_WINDOW_MINUTES = 15

    #: Lifetime of password reset and e-mail verification links, in hours.
    WIKI_TOKEN_HOURS = 24

    #: Outgoing mail. No host: messages are written as .eml files into ``<instance>/outbox/``.
    WIKI_SMTP_HOST = ""
    WIKI_SMTP_PORT = 587
    WIKI_SMTP_USER = ""
    WIKI_SMTP_PASSWORD = ""
    #: ``starttls``, ``ssl`` or ``none``.
    WIKI_SMTP_SECURITY = "starttls"
    WIKI_MAIL_FROM = "Verbandswiki <wiki@localhost>"
    #: Start a background sender thread in each worker (off in tests, which send explicitly).
    WIKI_MAIL_WORKER = True

    #: Page size of listings (history, recent changes, page index).
    WIKI_PAGE_SIZE = 50

    #: Cookie and session settings (Secure is switched on automatically behind https).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None

    #: With ``TESTING``: let unexpected errors propagate to the test instead of a 500 page.
    WIKI_RAISE_ERRORS = True

    #: Trust ``X-Forwarded-*`` headers from this many proxies (set 1 behind nginx).
    WIKI_PROXY_COUNT = 0

    #: Spaces plugin: the member directory (view and exports) opens only after a login with a
    #: second factor (two-factor login); without one it answers 403 with an explanation.
    SPACES_DIRECTORY_REQUIRES_2FA = True

    #: Calendar plugin: video rooms for events with ``online: ja``. ``""`` (off), ``jitsi`` or
    #: ``bbb`` (BigBlueButton). Readers of the event join through ``/-/calendar/event/<id>/join``;
    #: the room address is never shown to anyone else nor put into feeds.
    CALENDAR_VIDEO = ""
    #: Jitsi Meet server, e.g. ``https://meet.example.org``; rooms are ``<url>/<unguessable name>``.
    CALENDAR_JITSI_URL = ""
    #: Jitsi token authentication (prosody ``token`` auth): app id and shared secret. Both set:
    #: the join link carries a short-lived JWT (HS256; organisers join as moderators).
    CALENDAR_JITSI_APP_ID = ""
    CALENDAR_JITSI_SECRET = ""
    #: BigBlueButton API endpoint, e.g. ``https://bbb.example.org/bigbluebutton/api``, and its
    #: shared secret (``bbb-conf --secret``). Organisers join as moderators, readers as viewers.
    CALENDAR_BBB_URL = ""
    CALENDAR_BBB_SECRET = ""
    #: Checksum of BigBlueButton API calls: ``sha1`` (accepted by every version), or ``sha256``,
    #: ``sha384``, ``sha512`` if the server's ``supportedChecksumAlgorithms`` drops sha1.
    CALENDAR_BBB_CHECKSUM = "sha1"
    #: With a video service: every chapter has a standing room, always open, for its members
    #: (``/-/calendar/room/<chapter>/join``, linked on the chapter's page and calendar); its
    #: board joins as moderators. ``False`` leaves only the rooms of online events.
    CALENDAR_SPACE_ROOMS = True
    #: ``verbandswiki calendar remind`` (run it hourly) mails everyone who said yes to an
    #: occurrence that starts within this many hours, once per occurrence: about a day before.
    CALENDAR_REMINDER_HOURS = 24
