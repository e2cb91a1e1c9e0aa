"""The decisions of gspws. Imports no web, SOAP, CLI or database library."""
