"""Answers to what owners type: questions, chat intents, free-form answers to choices and numbers.

Framework-free and pure apart from the indexes built once per language on first use.
"""
