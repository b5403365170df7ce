"""Limits the channels enforce on what users send, shared with the handlers that explain them."""

MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""Largest photo fetched from a chat platform (a phone photo of a certificate is 1-5 MB)."""
