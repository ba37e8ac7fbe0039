"""The unit lane: pure tests, no processes and no sockets; the whole lane runs in well under a minute."""
