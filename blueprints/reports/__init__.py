"""Monthly reports (月报制度): filing, review, deadlines and 催报, needs publication, quarterly bulletins."""
