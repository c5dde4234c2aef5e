"""SMS notices to citizens, through a transactional outbox (README: Telling the citizen)."""
