"""Out-of-band delivery: the gateways that carry a code to a person, and the outbox sender.

One module per job: :mod:`.port` (what a gateway is), :mod:`.spool`, :mod:`.mitake`,
:mod:`.webhook`, :mod:`.smtp` (the gateways), :mod:`.gateways` (which one the settings choose),
:mod:`.sender` (the loop that drains the outbox), :mod:`.beside` (the one ``gspws serve`` runs).
"""
