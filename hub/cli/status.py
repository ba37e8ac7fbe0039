"""`hub status`: the estate in a terminal, from a running hub's API.

`render` is pure (the API's answers in, text out); `fetch` reads `/api/streams` and `/api/outages`
with a bearer token (urllib, in the command's own thread: there is no event loop here). Anything a
camera or the config named is shown with control characters replaced, so a name cannot drive the
terminal.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from hub.health import STATES

# Worst first: what is down before what is merely degraded; the longest-standing first within each.
SEVERITY = {"offline": 0, "unauthorized": 1, "degraded": 2, "connecting": 3}


class StatusError(Exception):
    """The hub could not be asked; the message is one line for a person."""


@dataclass(frozen=True)
class Estate:
    streams: list[dict]
    outages: list[dict]
    url: str
    at: float
    capacity: dict | None = None  # /healthz's, for an admin's token: the live budget


def fetch(url: str, token: str, timeout: float = 30.0) -> Estate:
    base = url.rstrip("/")
    streams = _get(f"{base}/api/streams", token, timeout)["streams"]
    outages = _get(f"{base}/api/outages", token, timeout).get("outages", [])
    capacity = _get(f"{base}/healthz", token, timeout).get("capacity")
    return Estate(streams, outages, base + "/", time.time(), capacity)


def _get(url: str, token: str, timeout: float) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise StatusError(
                f"the hub refused the token ({exc.code}): make one with `hub token add NAME --role viewer` "
                "and pass it in the environment variable named by --token-env"
            ) from None
        raise StatusError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StatusError(f"cannot reach the hub at {url}: {reason}") from None
    except ValueError:
        raise StatusError(f"{url}: the answer is not JSON: is this a hub?") from None


def render(estate: Estate, problems: int = 20, now: float | None = None) -> str:
    """Counts by category and state, the open grouped outages, then the worst problems first."""
    now = estate.at if now is None else now
    lines = [f"hub at {estate.url}  {len(estate.streams)} streams  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now))}", ""]
    lines += _counts(estate.streams)
    lines += ["", *_watching(estate)]
    lines += _nodes(estate.streams)
    if estate.outages:
        lines += ["", "Grouped outages:"]
        lines += [f"  {_safe(o.get('title') or _outage_title(o))}" for o in estate.outages]
    bad = sorted(
        (s for s in estate.streams if s["state"] != "online"), key=lambda s: (SEVERITY.get(s["state"], 0), s.get("since") or now)
    )
    lines += ["", f"Problems, worst first: {len(bad)}" if bad else "No problems: every stream is online."]
    width = max((len(_safe(s["id"])) for s in bad[:problems]), default=0)
    for stream in bad[:problems]:
        reasons = ", ".join(stream.get("reasons") or []) or "-"
        since = _duration(now - stream["since"]) if stream.get("since") else "?"
        lines.append(
            f"  {_safe(stream['id']):<{width}}  {stream['state']:<12} {_safe(reasons):<24} for {since:<8} "
            f"{_safe(stream.get('category', ''))}  {_safe(stream.get('site') or '')}  {_safe(stream.get('name', ''))}"
            + (f"  @{_safe(stream['node'])}" if stream.get("node") else "")
        )
    if len(bad) > problems:
        lines.append(f"  ... and {len(bad) - problems} more (--problems N shows more)")
    return "\n".join(lines) + "\n"


def _counts(streams: list[dict]) -> list[str]:
    categories = sorted({s["category"] for s in streams})
    counts = {(c, st): 0 for c in categories for st in STATES}
    for stream in streams:
        counts[(stream["category"], stream["state"])] = counts.get((stream["category"], stream["state"]), 0) + 1
    width = max([len(c) for c in categories] + [8])
    header = f"{'category':<{width}}" + "".join(f" {st:>12}" for st in STATES) + f" {'total':>7}"
    rows = [header]
    for category, members in [(c, [c]) for c in categories] + [("all", categories)]:
        per_state = [sum(counts[(c, st)] for c in members) for st in STATES]
        rows.append(f"{_safe(category):<{width}}" + "".join(f" {n:>12}" for n in per_state) + f" {sum(per_state):>7}")
    return rows


def _nodes(streams: list[dict]) -> list[str]:
    """On a cluster, how many cameras each node pulls, and how many no node pulls right now."""
    if not any(s.get("node") for s in streams):
        return []
    counts: dict[str, int] = {}
    for stream in streams:
        node = stream.get("node") or ""
        counts[node] = counts.get(node, 0) + 1
    pulled = ", ".join(f"{_safe(node)} {count}" for node, count in sorted(counts.items()) if node)
    return ["", f"Pulled by: {pulled}; by no node right now: {counts.get('', 0)}"]


def _outage_title(outage: dict) -> str:
    return (
        f"{outage.get('kind', '')} {outage.get('name', '')}: {len(outage.get('streams', []))} cameras {outage.get('reason', '')}"
    )


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def _safe(text: str) -> str:
    """What a camera or the config named, with anything that could drive a terminal replaced."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


def _watching(estate: Estate) -> list[str]:
    """How the streams are watched: live and on patrol, with the reasons, and the live budget (for an admin)."""
    counts: dict[tuple[str, str], int] = {}
    for stream in estate.streams:
        key = (stream.get("watching", "?"), stream.get("watching_reason", ""))
        counts[key] = counts.get(key, 0) + 1
    live = sum(n for (watching, _), n in counts.items() if watching == "live")
    head = f"Live {live}, on patrol {len(estate.streams) - live}"
    if estate.capacity and estate.capacity.get("live_budget") is not None:
        head += f"; live budget {estate.capacity['live_budget']} (learnt from this machine's load)"
    lines = [head + ":"]
    for (watching, reason), count in sorted(counts.items(), key=lambda item: (item[0][0] != "live", -item[1])):
        lines.append(f"  {count:>6}  {watching:<7} {_safe(reason) or '-'}")
    return lines
