"""``PHOTON_ALLOWED_USERS``: who may come in once a password or a provider said who they are."""

from __future__ import annotations


def is_allowed(name: str, rules: tuple[str, ...]) -> bool:
    """Does ``name`` match a rule: the same name or e-mail (case-blind), or an e-mail
    at ``@domain``? No rules: everyone (the users file is the list, with basic)."""
    if not rules:
        return True
    who = name.strip().lower()
    domain = who.rpartition("@")[2] if "@" in who else None
    for rule in rules:
        if rule.startswith("@"):
            if domain is not None and domain == rule[1:]:
                return True
        elif who == rule:
            return True
    return False
