"""公示: anonymised posts of work done, to the public channel."""
