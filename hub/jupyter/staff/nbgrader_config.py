# nbgrader settings of the instructor's and TAs' servers and of the formgrader service on the
# course hub: everyone on the staff works on the one course folder the formgrade group shares
# (COURSE_ROOT/assignments, which holds the course's own nbgrader_config.py).
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = os.environ.get("NBGRADER_COURSE_ID", "nnfs")
c.CourseDirectory.root = os.path.join(os.environ["COURSE_ROOT"], "assignments")
c.Exchange.root = os.environ["NBGRADER_EXCHANGE"]
# Files the staff create in the course folder stay writable by the whole formgrade group.
c.CourseDirectory.groupshared = True
