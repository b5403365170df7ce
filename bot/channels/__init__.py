"""Channel adapters: the only place that knows LINE, Telegram or the terminal."""
