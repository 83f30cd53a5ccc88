"""Thin front-ends: Telegram (aiogram 3), VK (vkbottle 4), the console chat and the CLI."""
