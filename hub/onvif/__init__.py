"""ONVIF onboarding: read a device's profiles into stream entries (`hub onvif add`), find devices (`hub onvif discover`)."""
