"""/setup: a coordinator's checklist for a new station, computed from the database."""
