"""Digests: building them from plain data, rendering them with Jinja2, sending them with Apprise.

Importing this package is cheap: Jinja2 and Apprise are imported only by the modules that need
them, so a quiet run that has nothing to send never loads them.
"""
