"""ElevenLabs: streaming speech for the Gather loop's <Play>."""
