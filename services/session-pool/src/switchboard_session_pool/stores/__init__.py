"""State kept outside the process: claims and outcomes of outbound messages (PostgreSQL), quotas
shared by every replica and campaigns on hold (NATS KV), the last inbound per contact (the 24-hour
window)."""
