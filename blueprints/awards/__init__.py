"""Commendation (评选表彰): campaigns, nominations, panel scoring, 公示, certificates."""
