"""Who is using the studio, and what their role lets them do.

With sign-in configured (`st.login`, OpenID Connect) every person is matched to a
role by the access rules from configuration: lists of e-mail addresses or domains
for admins, members and viewers. Without sign-in the app serves one person on
this machine (`LOCAL_PERSON`, an admin): nothing is shared, so nothing needs
guarding.

Roles:
- admin: settings, prices, budgets, everyone's jobs and batches, the audit list;
- member: create jobs and batches, review and export; sees their own jobs and
  batches and the batches marked shared;
- viewer: review (approve, reject, favourite) and download only; no spending, no export.

What a person did is recorded by `Person.key` (their e-mail, lower case, or
"local"), never by display name, which a provider may change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

Role = Literal["admin", "member", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)

Action = Literal[
    "change_settings",  # providers, prices, hosting, budgets defaults
    "see_everyone",  # everyone's jobs, batches and the audit list
    "create",  # run jobs and batches (spends money)
    "manage_batches",  # pause, resume, cancel, retry
    "review",  # approve, reject, favourite
    "export",  # build export ZIPs
    "download",  # download single results
]

_ALLOWED: Mapping[Role, frozenset[Action]] = {
    "admin": frozenset(get_args(Action)),
    "member": frozenset({"create", "manage_batches", "review", "export", "download"}),
    "viewer": frozenset({"review", "download"}),
}

LOCAL_KEY = "local"


@dataclass(frozen=True)
class Person:
    """A signed-in person (or the one local user) and their role."""

    email: str
    name: str
    role: Role

    @property
    def key(self) -> str:
        """What records carry as "who did it": the e-mail in lower case, or "local"."""
        return self.email.strip().lower() or LOCAL_KEY

    @property
    def is_local(self) -> bool:
        return self.key == LOCAL_KEY

    def can(self, action: Action) -> bool:
        return action in _ALLOWED[self.role]

    def sees(self, owner: str | None, *, shared: bool = False) -> bool:
        """Whether this person may see a job or batch recorded for `owner` (None: made before
        sign-in existed, which only admins see)."""
        if self.can("see_everyone"):
            return True
        return shared or (owner is not None and owner == self.key)


LOCAL_PERSON = Person(email="", name="", role="admin")


def _normalise_entries(entries: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({entry.strip().lower() for entry in entries if entry.strip()}))


@dataclass(frozen=True)
class AccessRules:
    """Roles by e-mail address ("ana@shop.com") or domain ("@shop.com" or "shop.com").

    An exact address wins over a domain; among matches the most powerful role wins,
    so listing someone as admin is enough even if their domain is listed as viewers.
    A person who matches nothing is not let in.
    """

    admins: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    by_role: Mapping[Role, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "admins", _normalise_entries(self.admins))
        object.__setattr__(self, "members", _normalise_entries(self.members))
        object.__setattr__(self, "viewers", _normalise_entries(self.viewers))
        object.__setattr__(
            self, "by_role", {"admin": self.admins, "member": self.members, "viewer": self.viewers}
        )

    @property
    def empty(self) -> bool:
        return not (self.admins or self.members or self.viewers)

    def role_for(self, email: str) -> Role | None:
        address = email.strip().lower()
        if "@" not in address:
            return None
        domain = address.rsplit("@", 1)[1]
        for role in ROLES:  # most powerful first
            if address in self.by_role[role]:
                return role
        for role in ROLES:
            entries = self.by_role[role]
            if domain in entries or f"@{domain}" in entries:
                return role
        return None

    def person(self, email: str, name: str = "") -> Person | None:
        role = self.role_for(email)
        return None if role is None else Person(email=email.strip().lower(), name=name, role=role)
