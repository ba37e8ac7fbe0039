"""Who may see which stream and do what: pure rules over a principal's role and grants.

Runs wherever a request is answered (the event loop); no I/O. A stream a principal may not
see does not exist for it: every exit of the web layer filters through `Rights.may_see`.

- `admin` sees every stream and may do everything.
- `reporter` (a grid worker on a phone) sees no stream and no video at all, whatever its grants: it
  files incidents and its own position, and follows its own reports.
- `operator` and `viewer` see the streams their grants name: a `category` (or `*`, every
  category), a `site`, a `tag` or a `stream` id.
- A *sensitive* stream (its category or one of its tags is listed in `[access]`, childcare by
  default) needs an explicit grant even for an operator: its own id, its sensitive category or
  its sensitive tag. A site grant or `category=*` does not open it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACTIONS = {
    "watch": ("admin", "operator", "viewer"),  # lists, records, snapshots, live video, events
    "arrange": ("admin", "operator"),  # walls and layouts
    "acknowledge": ("admin", "operator"),  # faults, and vehicle positions fed by a script
    "administer": ("admin",),  # config reload, users, tokens, the audit trail
    "report": ("admin", "operator", "reporter"),  # file incidents and photos; reporters: their own position too
    "triage": ("admin", "operator"),  # acknowledge, assign, comment, merge, resolve incidents
}
EVERY_CATEGORY = "*"


@dataclass(frozen=True)
class Rights:
    role: str
    grants: frozenset[tuple[str, str]] = frozenset()  # (kind, value)
    sensitive_categories: frozenset[str] = frozenset({"childcare"})
    sensitive_tags: frozenset[str] = frozenset({"sensitive"})
    key: tuple = field(init=False, compare=False)  # equal for equal rights: a cache key for filtered answers

    def __post_init__(self) -> None:
        key = (
            ("admin",)
            if self.role == "admin"
            else (tuple(sorted(self.grants)), tuple(sorted(self.sensitive_categories)), tuple(sorted(self.sensitive_tags)))
        )
        object.__setattr__(self, "key", key)

    @property
    def sees_everything(self) -> bool:
        return self.role == "admin"

    def can(self, action: str) -> bool:
        return self.role in ACTIONS[action]

    def is_sensitive(self, record) -> bool:
        """`record`: anything with `id`, `category`, `site` and `tags` (a config Stream or an index record)."""
        return record.category in self.sensitive_categories or any(t in self.sensitive_tags for t in record.tags)

    def may_see(self, record) -> bool:
        if self.role == "admin":
            return True
        if self.role == "reporter":
            return False
        grants = self.grants
        if ("stream", record.id) in grants:
            return True
        if self.is_sensitive(record):
            return (record.category in self.sensitive_categories and ("category", record.category) in grants) or any(
                t in self.sensitive_tags and ("tag", t) in grants for t in record.tags
            )
        return (
            ("category", record.category) in grants
            or ("category", EVERY_CATEGORY) in grants
            or ("site", record.site) in grants
            or any(("tag", t) in grants for t in record.tags)
        )

    def visible(self, records) -> list:
        return list(records) if self.role == "admin" else [r for r in records if self.may_see(r)]


def rights_under(settings, role: str, grants) -> Rights:
    """A role's rights under an [access] table (`AccessSettings`: what is sensitive): the hub's and the read door's."""
    return Rights(role, frozenset(grants), frozenset(settings.sensitive_categories), frozenset(settings.sensitive_tags))
