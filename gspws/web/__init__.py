"""The web door: the page where people bind an authenticator to their account (werkzeug, Jinja2)."""
