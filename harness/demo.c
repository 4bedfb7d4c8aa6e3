#include "demo.h"
int cmd_demo(const hopts *o) { (void)o; return 1; }
