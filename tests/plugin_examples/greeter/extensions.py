from attendance_site.registry import CheckInMethod, MenuItem

checkin_methods = [CheckInMethod(key="wave", label="Wave", fallback=True)]
menu_items = [MenuItem("greeter", "Greeter", "/plugins/hello/", order=50)]
