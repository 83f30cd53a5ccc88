"""The Telegram front-end (aiogram 3): Telegram updates in, engine replies out, nothing more.

Everything Telegram-specific lives here; the advice itself comes from ``advisor.app.Advisor``.
"""
