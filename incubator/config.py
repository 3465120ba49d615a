"""Configuration defaults.

Order of precedence (last wins): these defaults, `instance/config.py`, environment
variables (`DATABASE_URL`, `SECRET_KEY`, and any `INCUBATEUR_<KEY>`), then the mapping
passed to `create_app(config=...)` (tests).
"""

from datetime import timedelta


class Defaults:
    # Must come from instance/config.py or the environment outside tests and debug.
    SECRET_KEY = None
    # The database (postgresql://… in production); empty: SQLite in the instance folder.
    # Also read as DATABASE_URL or INCUBATEUR_DATABASE_URL from the environment.
    DATABASE_URL = None
    SQLALCHEMY_DATABASE_URI = None  # computed from DATABASE_URL
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False

    SESSION_COOKIE_NAME = "incubateur_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)
    # Sessions unused for this long are refused (server-side session record).
    SESSION_IDLE_TIMEOUT = timedelta(hours=4)
    # How long before either limit the page warns, and offers to stay signed in (RGAA 13.1,
    # WCAG 2.2.1: at least 20 seconds to answer).
    SESSION_WARNING_SECONDS = 120

    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
    WTF_I18N_ENABLED = False  # WTForms translates its own messages (incubator.forms.Form)
    WTF_CSRF_SSL_STRICT = False  # Referer checks break behind some proxies; token is enough

    MAX_CONTENT_LENGTH = 5 * 1024 * 1024  # CSV imports included

    # Logs on stderr (see incubator/observability.py): DEBUG, INFO, WARNING, ERROR;
    # "text" lines, or "json" (one object per line) for a log collector.
    LOG_LEVEL = "INFO"
    LOG_FORMAT = "text"

    # Number of reverse proxies in front of the app (0: X-Forwarded-* headers are ignored).
    # With n > 0, Werkzeug's ProxyFix trusts the last n values of X-Forwarded-For, -Proto,
    # -Host, -Port and -Prefix, so that client addresses (throttling, sessions, logs) are
    # the real ones. Never set it higher than the proxies really there: a client could then
    # choose its own address.
    TRUSTED_PROXIES = 0

    # Login throttling (stored in the database, so shared by all workers). Within the window,
    # failures refuse logins per account (reset by a success) and per (address, account);
    # failures from one address, whatever the account, only slow its logins down: a whole
    # institution behind one address is never locked out by someone else's mistakes.
    LOGIN_THROTTLE_WINDOW = timedelta(minutes=15)
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    # The same 5 tries as the account limit by default: a person at her desk keeps today's
    # budget. Raising LOGIN_MAX_FAILURES_PER_ACCOUNT makes a lockout of an account from
    # elsewhere harder while one address still gets only this many guesses at it.
    LOGIN_MAX_FAILURES_PER_ADDRESS_AND_ACCOUNT = 5
    # Above this many failures from one address (any accounts), each login from it waits
    # LOGIN_ADDRESS_DELAY_SECONDS before its password is checked; it is never refused for it.
    LOGIN_MAX_FAILURES_PER_ADDRESS = 100
    LOGIN_ADDRESS_DELAY_SECONDS = 1.0

    PASSWORD_MIN_LENGTH = 12

    # Single-use account tokens (accounts.tokens): how long each stays valid.
    PASSWORD_RESET_LIFETIME = timedelta(hours=1)  # the « mot de passe oublié » link
    INVITATION_LIFETIME = timedelta(days=7)  # the link of an administrator's invitation
    ACTIVATION_CODE_LIFETIME = timedelta(days=30)  # the code of a printed activation sheet
    # « Mot de passe oublié » requests, counted whether or not an account has the address:
    # per address typed and per client address, over the window. Beyond, refused (429).
    PASSWORD_RESET_THROTTLE_WINDOW = timedelta(hours=1)
    PASSWORD_RESET_MAX_PER_EMAIL = 3
    PASSWORD_RESET_MAX_PER_CLIENT = 20
    # Wrong activation codes (sheet), over LOGIN_THROTTLE_WINDOW: per identifier typed and
    # per client address. Beyond, refused (429), even with the right code.
    ACTIVATION_CODE_MAX_FAILURES_PER_ACCOUNT = 5
    ACTIVATION_CODE_MAX_FAILURES_PER_CLIENT = 30
    # Used tokens and expired ones are deleted this long after their end, throttled
    # requests after their window (`flask retention apply`).
    ACCOUNT_TOKEN_RETENTION = timedelta(days=30)

    # Email: through the outbox and `flask notifications worker`. Without MAIL_SERVER, emails
    # are written to instance/mail/ (a newcomer's machine).
    BASE_URL = "http://127.0.0.1:5000"  # for links in emails
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS
    MAIL_USE_SSL = False  # TLS from the start (port 465)
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_SENDER = "Incubateur <ne-pas-repondre@incubateur.invalid>"
    MAIL_MAX_ATTEMPTS = 5
    MAIL_TIMEOUT = 10
    RETENTION_YEARS = 5  # departed agents are anonymised after this many years
    # `flask retention apply` also deletes login attempts (address, email) older than this,
    # and takes the client's address out of sign-in entries of the audit log older than that.
    LOGIN_ATTEMPTS_KEPT_DAYS = 30
    SIGN_IN_ADDRESSES_KEPT_DAYS = 365
    # The dashboard's aggregates are recomputed at most this often (per worker).
    DASHBOARD_CACHE_SECONDS = 300
    # Aggregates never single a person out: outside the HR report and one's own record, a
    # figure about fewer people than this is shown as « moins de 5 ».
    MIN_GROUP_SIZE = 5
    # Long lists (board, journal, portfolio, audit log) count their results up to this
    # number, then say "plus de …" (see incubator/pagination.py).
    LIST_COUNT_CAP = 1000
    # A word search on the board counts up to this: its matches come newest first from the
    # index (proposals/search.py), which reads as far as the count goes; past a few pages a
    # search is refined, not paged through.
    SEARCH_COUNT_CAP = 100
    # The benchmark reads the number of SQL statements per request from a response header.
    QUERY_COUNT_HEADER = False
    # ... and where each request's time went, from a Server-Timing header (see
    # incubator/instrumentation.py): off in production, it times every statement.
    SERVER_TIMING_HEADER = False

    # Single sign-on through OpenID Connect (accounts/oidc.py): ProConnect, or the
    # institution's own provider (Keycloak, LemonLDAP::NG, Entra ID). Without OIDC_ISSUER,
    # no provider: the login page shows the password form only. OIDC_NAME is the button's
    # label. More providers: OIDC_PROVIDERS, a list of {"name", "issuer", "client_id",
    # "client_secret", "scopes"} (instance/config.py, or JSON in INCUBATEUR_OIDC_PROVIDERS).
    OIDC_ISSUER = None
    OIDC_CLIENT_ID = None
    OIDC_CLIENT_SECRET = None
    OIDC_NAME = "ProConnect"
    OIDC_SCOPES = "openid email given_name usual_name uid siret"
    OIDC_PROVIDERS: list = []
    # Seconds to wait for the provider (discovery, keys, token, userinfo) before saying so.
    OIDC_TIMEOUT = 10

    # Directory sync (`flask directory sync`, incubator/directory; README « Annuaire »).
    # Each is also read from the environment as INCUBATEUR_<KEY> (values there are JSON when
    # they parse as JSON: incubator.directory.settings puts every one back to its type).
    DIRECTORY_URL = None  # ldap://annuaire.ville.fr or ldaps://annuaire.ville.fr:636
    DIRECTORY_START_TLS = False  # StartTLS on an ldap:// address
    DIRECTORY_CA_FILE = None  # CA certificates (PEM) of the directory's TLS, if not the system's
    DIRECTORY_BIND_DN = None  # the read-only account the sync binds as (None: anonymous)
    DIRECTORY_BIND_PASSWORD = None
    DIRECTORY_BASE_DN = None  # where agents (and units) are searched, subtree
    DIRECTORY_USER_FILTER = "(&(objectClass=inetOrgPerson)(mail=*))"
    # Entries naming units (their code and name); "" : units are named after their code.
    DIRECTORY_UNIT_FILTER = "(objectClass=organizationalUnit)"
    # Attribute names that differ from incubator.directory.settings.DEFAULT_ATTRIBUTES,
    # e.g. {"key": "objectGUID", "unit": "department"}; "" for one turns it off.
    DIRECTORY_ATTRIBUTES: dict = {}
    DIRECTORY_INSTITUTION = None  # slug of the institution fed (or --institution)
    # Category given to new agents whose entry has none (None: such entries are reported).
    DIRECTORY_DEFAULT_CATEGORY = None
    # Safety brake: refuse to write (unless --force) when the directory returns nobody or
    # would deactivate more than this share, in per cent, of the agents synced from it.
    DIRECTORY_MAX_DEACTIVATION_PERCENT = 10
    DIRECTORY_PAGE_SIZE = 500
    DIRECTORY_TIMEOUT = 10  # seconds, connection and each answer

    # Where people report an accessibility problem, on /accessibilite (the RGAA's "means of
    # contact"): the address of the accessibility referent of the institution(s) served.
    # None: the statement points to the administrators of the person's institution instead.
    # The conformity status is not set here: it is computed from the grid, incubator/core/rgaa.py.
    ACCESSIBILITY_CONTACT_EMAIL = None
