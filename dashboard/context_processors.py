from attendance_site.registry import registry


def menu(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu_items": []}
    return {"menu_items": registry.menu_items.for_user(user)}
