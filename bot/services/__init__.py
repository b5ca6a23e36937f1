"""Domain services: the station's rules, with no knowledge of Telegram."""
