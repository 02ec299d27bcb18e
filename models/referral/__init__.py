"""The referral engine: programs, personal codes, attribution, rewards."""
