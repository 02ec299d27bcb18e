"""Chat platform channels: verify, decrypt, de-duplicate and persist inbound callbacks, answer
fast, work after; render and send replies through one outbound choke point per platform."""
