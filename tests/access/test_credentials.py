"""The sign-in files, rules and secrets, without a server."""

from __future__ import annotations

import stat

import bcrypt
import pytest

from app.access.allowed import is_allowed
from app.access.hashfile import HashFileError
from app.access.identity import Guarded, require_guarded
from app.access.passwords import Users, check_password
from app.access.secrets_store import cookie_secret
from app.access.serving import anonymous_warning, bound_address, check_files
from app.access.signin import safe_next
from app.access.tokens import Tokens
from app.config import Secret, SettingError, Settings, load_settings


def htpasswd_line(name: str, password: str) -> str:
    """What ``htpasswd -nbB name password`` prints: bcrypt under its ``$2y$`` name."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    return f"{name}:$2y${hashed[4:]}"


def test_an_htpasswd_file_signs_its_users_in(tmp_path):
    path = tmp_path / "users"
    path.write_text("# made with htpasswd -nbB\n" + htpasswd_line("ann", "correct horse")
                    + "\n\n" + htpasswd_line("ben", "battery staple") + "\n")
    users = Users(str(path))
    assert users.names() == {"ann", "ben"}
    assert users.verify("ann", "correct horse")
    assert not users.verify("ann", "battery staple")
    assert not users.verify("nobody", "correct horse")


def test_argon2_hashes_are_accepted_too():
    argon2 = pytest.importorskip("argon2")
    hashed = argon2.PasswordHasher().hash("a long passphrase")
    assert check_password("a long passphrase", hashed)
    assert not check_password("another one", hashed)


def test_a_plain_password_in_the_users_file_is_refused_and_never_shown(tmp_path):
    path = tmp_path / "users"
    path.write_text(htpasswd_line("ann", "correct horse") + "\nben:hunter2hunter2\n")
    with pytest.raises(HashFileError) as caught:
        Users(str(path)).verify("ann", "correct horse")
    assert "'ben'" in str(caught.value) and "hunter2" not in str(caught.value)
    settings = Settings(auth="basic", users_file=str(path))
    with pytest.raises(SettingError, match="not a bcrypt or argon2 hash"):
        check_files(settings)


def test_users_add_writes_a_bcrypt_line_and_replaces_it(tmp_path):
    path = tmp_path / "sub" / "users"
    users = Users(str(path))
    assert users.add("ann", "first password") is False
    assert users.add("ben", "second password") is False
    assert users.add("ann", "a new password") is True
    lines = path.read_text().splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["ben", "ann"]
    assert all(ln.split(":", 1)[1].startswith("$2b$12$") for ln in lines)
    assert "password" not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert users.verify("ann", "a new password") and not users.verify("ann", "first password")
    with pytest.raises(HashFileError):
        users.add("cat", "short")
    with pytest.raises(HashFileError):
        users.add("with:colon", "long enough password")


def test_a_token_is_kept_as_its_hash_and_names_its_holder(tmp_path):
    tokens = Tokens(str(tmp_path / "tokens"))
    first = tokens.add("ci")
    other = tokens.add("grafana")
    text = (tmp_path / "tokens").read_text()
    assert first not in text and other not in text and "ci:sha256$" in text
    assert tokens.name_of(first) == "ci" and tokens.name_of(other) == "grafana"
    assert tokens.name_of(first + "x") is None and tokens.name_of("") is None
    renewed = tokens.add("ci")
    assert tokens.name_of(first) is None and tokens.name_of(renewed) == "ci"


@pytest.mark.parametrize(("name", "rules", "expected"), [
    ("alice", (), True),
    ("alice", ("alice",), True),
    ("Alice", ("alice",), True),
    ("alice", ("bob",), False),
    ("ann@corp.test", ("@corp.test",), True),
    ("ann@evilcorp.test", ("@corp.test",), False),
    ("ann@corp.test.evil", ("@corp.test",), False),
    ("corp.test", ("@corp.test",), False),
    ("boss@other.test", ("@corp.test", "boss@other.test"), True),
])
def test_allowed_users_match_names_emails_and_domains(name, rules, expected):
    assert is_allowed(name, rules) is expected


@pytest.mark.parametrize(("raw", "expected"), [
    (None, "/"), ("", "/"), ("/app", "/app"), ("/app?symbols=AAPL", "/app?symbols=AAPL"),
    ("//evil.test", "/"), ("/\\evil.test", "/"), ("https://evil.test/", "/"),
    ("javascript:alert(1)", "/"), ("app", "/"), ("/a\r\nSet-Cookie: x", "/"),
])
def test_next_is_only_a_path_of_this_server(raw, expected):
    assert safe_next(raw) == expected
    assert safe_next(raw, "/photon") == ("/photon/" if expected == "/" else expected)


def test_the_cookie_secret_is_made_once_kept_0600_and_reused(tmp_path):
    path = tmp_path / "data" / "photon" / "cookie_secret"
    first = cookie_secret(Settings(), path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cookie_secret(Settings(), path) == first  # a restart signs nobody out
    path.chmod(0o644)
    assert cookie_secret(Settings(), path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    given = "g" * 40
    assert cookie_secret(Settings(cookie_secret=Secret(given)), path) == given


def test_the_cookie_secret_from_a_file_and_never_shown(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("s" * 48 + "\n")
    settings = load_settings({"PHOTON_COOKIE_SECRET_FILE": str(secret_file)},
                             env_file=tmp_path / "none")
    assert settings.cookie_secret.reveal() == "s" * 48
    assert "s" * 48 not in repr(settings)
    with pytest.raises(SettingError, match="32 characters"):
        load_settings({"PHOTON_COOKIE_SECRET": "short"}, env_file=tmp_path / "none")


@pytest.mark.parametrize(("env", "names"), [
    ({"PHOTON_AUTH": "basic"}, "PHOTON_USERS_FILE"),
    ({"PHOTON_AUTH": "oauth"}, "PHOTON_OAUTH_PROVIDER, PHOTON_OAUTH_KEY, PHOTON_OAUTH_SECRET, "
     "PHOTON_ALLOWED_USERS"),
    ({"PHOTON_AUTH": "oauth", "PHOTON_OAUTH_PROVIDER": "github", "PHOTON_OAUTH_KEY": "id",
      "PHOTON_OAUTH_SECRET": "s"}, "PHOTON_ALLOWED_USERS"),
])
def test_sign_in_says_what_it_lacks(tmp_path, env, names):
    with pytest.raises(SettingError, match=names):
        load_settings(env, env_file=tmp_path / "none")


@pytest.mark.parametrize(("auth", "anonymous", "address", "warns"), [
    ("none", False, "0.0.0.0", True), ("none", False, "", True),
    ("none", False, "192.168.1.5", True), ("none", True, "0.0.0.0", False),
    ("none", False, "127.0.0.1", False), ("none", False, "localhost", False),
    ("none", False, "::1", False), ("basic", False, "0.0.0.0", False),
])
def test_an_open_server_off_loopback_says_so_once(auth, anonymous, address, warns, tmp_path):
    settings = Settings(auth=auth, allow_anonymous=anonymous,
                        users_file=str(tmp_path / "u") if auth == "basic" else None)
    line = anonymous_warning(settings, address)
    assert (line is not None) is warns
    if warns:
        assert "\n" not in line and "anyone" in line and "PHOTON_ALLOW_ANONYMOUS" in line


def test_the_address_a_command_line_listens_on():
    assert bound_address(["panel", "serve", "app", "--address", "0.0.0.0"]) == "0.0.0.0"
    assert bound_address(["panel", "serve", "--address=10.0.0.1", "app"]) == "10.0.0.1"
    assert bound_address(["panel", "serve", "app"]) == ""  # Bokeh: every interface
    assert bound_address(["python", "-m", "app", "--port", "5006"]) == "127.0.0.1"  # photon
    assert bound_address(["photon", "--address", "0.0.0.0"]) == "0.0.0.0"


def test_every_route_photon_adds_checks_who_calls():
    from tornado.web import RequestHandler

    from app.routes import ROUTES

    assert all(issubclass(route[1], Guarded) for route in ROUTES)

    class Open(RequestHandler):
        pass

    with pytest.raises(TypeError, match="/new"):
        require_guarded([*ROUTES, ("/new", Open, {})])


def test_the_policy_reads_the_users_file_again_and_fails_closed(tmp_path):
    from app.access.identity import Policy

    path = tmp_path / "users"
    users = Users(str(path))
    users.add("ann", "ann's password")
    users.add("ben", "ben's password")
    pol = Policy(mode="basic", users=users, allowed_users=())
    assert pol.allows("ann") and pol.allows("ben")
    path.write_text(path.read_text().splitlines()[1] + "\n")  # ann removed: no restart
    assert not pol.allows("ann") and pol.allows("ben")
    path.write_text(path.read_text() + "cat:a-plain-password\n")  # unusable: nobody
    assert not pol.allows("ben")
    assert Policy(mode="basic", users=users, allowed_users=("ben",)).allows("ann") is False


def test_a_broken_tokens_file_lets_no_token_in(tmp_path):
    from app.access.identity import Policy

    tokens = Tokens(str(tmp_path / "tokens"))
    token = tokens.add("ci")
    pol = Policy(mode="basic", tokens=tokens)
    assert pol.token_name(token) == "ci"
    (tmp_path / "tokens").write_text("ci:plain-token\n")
    assert pol.token_name(token) is None and pol.token_name("plain-token") is None
