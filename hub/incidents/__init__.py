"""Incidents on the one map: grid workers' reports, their triage, and the cameras that come to them."""
