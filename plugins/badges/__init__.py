"""Badge check-in: RFID/NFC cards assigned to employees and read by a site's devices.

The example plugin of the platform: everything it adds (model, API, device endpoint,
check-in method, dashboard panel, event handler) is found by file name, and disabling it
leaves no trace (docs/plugins.md).
"""
