using Prospector.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddProspector();

var app = builder.Build();
app.MapProspector();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
