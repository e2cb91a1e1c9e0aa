"""The headers of every page gspws serves: the binding pages, the WSDL and the SOAP help pages.

Nothing is cached on the way (the binding page shows a secret key; a shared cache keeping a WSDL
or help page could give one caller's addresses to another), no page is framed (clickjacking),
sent as a referrer or sniffed as another type, and a page may load nothing but its own inline
style and post forms only to gspws.
"""

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

#: The operator console's: the same, but its stylesheet and images are files gspws serves
#: (``/admin/static/``, charts as ``<img>`` of gspws's own SVG) and nothing inline at all.
ADMIN_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
