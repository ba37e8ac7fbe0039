"""Who may use the hub: accounts, roles and rights (issue: access control and audit)."""
