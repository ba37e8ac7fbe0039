"""The read door: a process of its own that answers the API's two most frequent reads,
`GET /api/streams` and `GET /api/streams/{id}`, from a copy of the index, and hands every other
connection to the hub.

Why: at the estate's load the hub's event loop is busy with health ticks, worker bundles, the wall's
video and /metrics; a read that waits for its turn there waits tens of milliseconds. The door's loop
has nothing else to do.

Who runs where:
- `keeper.ReadDoor` (the hub's event loop) starts the door (`python -m hub.web.reads.door`) with the
  listening socket, sends it a copy of the index's records at most every `PUBLISH_EVERY_S`, and the
  table of signed-in sessions whenever it changes; it takes the connections the door hands over
  (SCM_RIGHTS) into the hub's own aiohttp server. The hub accepts on the socket itself until the door
  has its first copy, and again if the door dies.
- `door` (the door process) accepts every connection and peeks at its first request without reading
  it. Only a complete `GET` of the list or a record, with a token or session it can check, on a stream
  the principal may see, is answered there; the connection then waits in the door for the client's
  next request (keep-alive), peeked again the same way. Anything else, or anything in doubt (no credentials, an
  unknown token, a bad filter, a request still arriving), is handed over unread, and the hub answers
  it exactly as before: errors, refusals and the audit stay in one place.
- `copier` (the hub's loop) finds the records whose JSON changed since the door's last batch.
- `request`, `answers` and `credentials` are the door's pure parts: reading a request, building the
  answer, and checking a principal (tokens and users from the same SQLite file, read-only in effect;
  sessions from the hub's table).

A copy is at most about `PUBLISH_EVERY_S` behind the hub. While the door runs, the hub answers the
same two reads (on connections it already holds) from the same copy, so two reads never go back in
time; a state-changing request's answer waits until both copies show its change
(`keeper.writes_reach_the_reads`); signing out waits until the door has dropped the session, and a
token revoked or a user changed in SQLite is seen by the door's next request.
"""
