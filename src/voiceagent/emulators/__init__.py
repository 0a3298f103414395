"""Local servers that speak the vendors' wire protocols (Twilio REST, OpenAI, ElevenLabs).

The tests and the benchmarks point the vendors' own SDKs at them over real HTTP on loopback, with
delays and faults injected on purpose. Nothing here is used by the service itself.
"""
