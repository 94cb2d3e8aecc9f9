"""Printed tickets: layout to a bilevel image, ESC/POS raster encoding, printer backends.

image = layout.render_ticket(ticket, layout.WIDTH_80MM)
backends.printer_from_spec(settings.printer).print_ticket(image, ticket.label, ticket)
"""
