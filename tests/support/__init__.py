"""Real local servers the channel tests run against: an Aliyun SMS gateway and an SMTP server (plus fixtures)."""
