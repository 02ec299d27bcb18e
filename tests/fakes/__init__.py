"""Local fakes of the platforms' HTTP APIs, and helpers that sign and encrypt callbacks exactly
as the platforms do. Tests talk to them over real HTTP; nothing of ours is mocked."""
