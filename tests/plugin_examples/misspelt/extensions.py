from attendance_site.registry import MenuItem

menu_item = [MenuItem("misspelt", "Misspelt", "/plugins/misspelt/")]
