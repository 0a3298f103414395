"""The turn core: one caller turn, whatever the transport.

`decide` reads the call once and steps the funnel; `job` is the ground every part shares; `line`
writes the agent's line; `voice` speaks it for the Gather loop; `budget` and `replay` keep the
Gather loop inside Twilio's webhook limits; `gather` and `relay` are the two transports.
"""
