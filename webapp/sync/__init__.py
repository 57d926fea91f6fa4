"""The sync engine, independent of Flask request handling and of Dramatiq (DESIGN §2, §5)."""
