"""The app's screens: set-up, resume, task, questionnaires, summary, and small modals."""
