"""Twilio: the voice REST API, its webhooks and TwiML, and ConversationRelay's messages."""
